# Variant: the same points drawn as a scatter with a fitted line instead of a triangle construction.
import matplotlib.pyplot as plt
import numpy as np

A, B, C = np.array([0.0, 0.0]), np.array([4.0, 0.0]), np.array([1.0, 3.0])
points = np.array([A, B, C])
slope, intercept = np.polyfit(points[:, 0], points[:, 1], 1)

fig, ax = plt.subplots(figsize=(5, 5))
ax.scatter(points[:, 0], points[:, 1], s=60, color="navy")
xs = np.linspace(-1, 5, 50)
ax.plot(xs, slope * xs + intercept, color="darkorange", linestyle="--")
ax.set_title("Incircle of triangle ABC")
ax.set_xlim(-1, 5)
ax.set_ylim(-1, 4)
plt.show()
