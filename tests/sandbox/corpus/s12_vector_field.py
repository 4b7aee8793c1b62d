# Physics: the electric field of two point charges drawn with quiver.
import matplotlib.pyplot as plt
import numpy as np

x = np.linspace(-2, 2, 21)
X, Y = np.meshgrid(x, x)
Ex, Ey = np.zeros_like(X), np.zeros_like(Y)
for q, (cx, cy) in [(1, (-0.7, 0)), (-1, (0.7, 0))]:
    dx, dy = X - cx, Y - cy
    r3 = (dx ** 2 + dy ** 2 + 0.05) ** 1.5
    Ex += q * dx / r3
    Ey += q * dy / r3
norm = np.hypot(Ex, Ey)
fig, ax = plt.subplots(figsize=(5.5, 5))
ax.quiver(X, Y, Ex / norm, Ey / norm, np.log(norm), cmap="inferno")
ax.plot(-0.7, 0, "ro", ms=12)
ax.plot(0.7, 0, "bo", ms=12)
ax.text(-0.7, 0.2, "+q", ha="center", color="red")
ax.text(0.7, 0.2, "−q", ha="center", color="blue")
ax.set_aspect("equal")
ax.set_title("Electric dipole field")
plt.savefig("dipole.png", dpi=300)
