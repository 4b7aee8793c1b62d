# Geometry: a triangle, its circumscribed circle and circumcentre, vertices labelled.
import matplotlib.pyplot as plt
import numpy as np

A, B, C = np.array([0.0, 0.0]), np.array([4.0, 0.0]), np.array([1.2, 3.0])
d = 2 * (A[0] * (B[1] - C[1]) + B[0] * (C[1] - A[1]) + C[0] * (A[1] - B[1]))
ux = ((A @ A) * (B[1] - C[1]) + (B @ B) * (C[1] - A[1]) + (C @ C) * (A[1] - B[1])) / d
uy = ((A @ A) * (C[0] - B[0]) + (B @ B) * (A[0] - C[0]) + (C @ C) * (B[0] - A[0])) / d
radius = np.hypot(A[0] - ux, A[1] - uy)

fig, ax = plt.subplots(figsize=(5, 5))
ax.fill(*zip(A, B, C, strict=True), facecolor="wheat", edgecolor="black")
ax.add_patch(plt.Circle((ux, uy), radius, fill=False, color="navy"))
ax.plot(ux, uy, "o", color="navy")
for name, point, offset in (("A", A, (-0.3, -0.3)), ("B", B, (0.1, -0.3)), ("C", C, (0.0, 0.15))):
    ax.text(point[0] + offset[0], point[1] + offset[1], name, fontsize=14)
ax.text(ux + 0.1, uy - 0.3, "O")
ax.set_aspect("equal")
ax.axis("off")
plt.show()
