# Variant: the incircle is missing.
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Arc, Polygon

A, B, C = np.array([0.0, 0.0]), np.array([4.0, 0.0]), np.array([1.0, 3.0])
a, b, c = np.linalg.norm(B - C), np.linalg.norm(A - C), np.linalg.norm(A - B)
incenter = (a * A + b * B + c * C) / (a + b + c)
s = (a + b + c) / 2
r = np.sqrt((s - a) * (s - b) * (s - c) / s)

fig, ax = plt.subplots(figsize=(5, 5))
ax.add_patch(Polygon([A, B, C], closed=True, fill=False, edgecolor="navy", linewidth=2))
ax.add_patch(Arc(A, 1.0, 1.0, theta1=0, theta2=np.degrees(np.arctan2(C[1], C[0])), color="green"))
for name, point, offset in [("A", A, (-0.25, -0.25)), ("B", B, (0.1, -0.25)), ("C", C, (0, 0.15))]:
    ax.plot(*point, "ko")
    ax.text(point[0] + offset[0], point[1] + offset[1], name, fontsize=14)
ax.text(0.55, 0.2, r"$\alpha$", fontsize=13, color="green")
ax.set_title("Incircle of triangle ABC")
ax.set_aspect("equal")
ax.set_xlim(-1, 5)
ax.set_ylim(-1, 4)
ax.axis("off")
plt.show()
