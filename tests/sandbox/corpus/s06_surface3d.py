# 3D: a saddle surface.
import matplotlib.pyplot as plt
import numpy as np

x = np.linspace(-2, 2, 40)
X, Y = np.meshgrid(x, x)
Z = X ** 2 - Y ** 2
fig = plt.figure(figsize=(6, 5))
ax = fig.add_subplot(projection="3d")
ax.plot_surface(X, Y, Z, cmap="coolwarm", edgecolor="none", alpha=0.9)
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.set_zlabel("z")
ax.set_title("z = x² − y²")
plt.savefig("saddle.png")
