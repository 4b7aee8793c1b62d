# Mathematics: filled contours of a two-variable function with a colour bar.
import matplotlib.pyplot as plt
import numpy as np

x = np.linspace(-3, 3, 200)
y = np.linspace(-3, 3, 200)
X, Y = np.meshgrid(x, y)
Z = np.exp(-(X ** 2 + Y ** 2) / 2) * np.cos(2 * X) + 0.1 * Y
fig, ax = plt.subplots(figsize=(6, 5))
cs = ax.contourf(X, Y, Z, levels=20, cmap="viridis")
ax.contour(X, Y, Z, levels=10, colors="k", linewidths=0.5)
fig.colorbar(cs, ax=ax, label="f(x, y)")
ax.set_title(r"$f(x,y)=e^{-(x^2+y^2)/2}\cos 2x + 0.1y$")
ax.set_xlabel("x")
ax.set_ylabel("y")
plt.savefig("contour.png", dpi=300)
