# Optics: a converging lens forming a real image, with the three principal rays.
import matplotlib.pyplot as plt
from matplotlib.patches import Ellipse

f, u, h = 2.0, 5.0, 1.2
v = 1 / (1 / f - 1 / u)
image_h = -h * v / u

fig, ax = plt.subplots(figsize=(8, 4))
ax.axhline(0, color="black", linewidth=0.8)
ax.add_patch(Ellipse((0, 0), 0.3, 3.4, facecolor="lightblue", edgecolor="steelblue"))
ax.annotate("", xy=(-u, h), xytext=(-u, 0), arrowprops=dict(arrowstyle="->", color="green", linewidth=2))
ax.annotate("", xy=(v, image_h), xytext=(v, 0), arrowprops=dict(arrowstyle="->", color="orange", linewidth=2))
ax.plot([-u, 0, v], [h, h, image_h], color="red")
ax.plot([-u, v], [h, image_h], color="red")
ax.plot([-u, 0, v], [h, image_h, image_h], color="red")
for x in (-f, f):
    ax.plot(x, 0, "ko")
ax.text(f, -0.3, "F", ha="center")
ax.text(-f, -0.3, "F", ha="center")
ax.set_xlim(-6, 5)
ax.set_ylim(-2, 2)
ax.set_title("Image formed by a converging lens")
ax.set_xticks([])
ax.set_yticks([])
plt.show()
