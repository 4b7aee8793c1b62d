# Electrical engineering: a series RC circuit drawn from lines and patches.
import matplotlib.pyplot as plt
from matplotlib.patches import Circle, Rectangle

fig, ax = plt.subplots(figsize=(6, 4))
ax.plot([1, 1, 5, 5, 1], [1, 3, 3, 1, 1], color="black", lw=2)
ax.add_patch(Rectangle((2.4, 2.8), 1.2, 0.4, facecolor="white", edgecolor="black", lw=2, zorder=3))
ax.text(3.0, 3.4, "R = 1 kΩ", ha="center", fontsize=12)
ax.plot([4.85, 5.15], [2.1, 2.1], color="black", lw=3, zorder=3)
ax.plot([4.85, 5.15], [1.9, 1.9], color="black", lw=3, zorder=3)
ax.add_patch(Rectangle((4.8, 1.92), 0.4, 0.16, facecolor="white", edgecolor="none", zorder=2))
ax.text(5.3, 2.0, "C = 10 µF", va="center", fontsize=12)
ax.add_patch(Circle((1, 2), 0.3, facecolor="white", edgecolor="black", lw=2, zorder=3))
ax.text(1, 2, "~", ha="center", va="center", fontsize=16)
ax.text(0.3, 2.0, "$V_s$", va="center", fontsize=13)
ax.annotate("", xy=(3.9, 1.0), xytext=(2.1, 1.0), arrowprops=dict(arrowstyle="->", color="red", lw=1.5))
ax.text(3.0, 0.7, "i(t)", color="red", ha="center")
ax.set_xlim(0, 7)
ax.set_ylim(0, 4)
ax.set_aspect("equal")
ax.axis("off")
plt.savefig("rc.png", dpi=300)
