# Mathematics: a number line showing an inequality's solution set.
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(7, 1.8))
ax.axhline(0, color="black", lw=1.5)
for k in range(-5, 6):
    ax.plot([k, k], [-0.08, 0.08], color="black", lw=1)
    ax.text(k, -0.3, str(k), ha="center", fontsize=10)
ax.plot([-2, 3], [0, 0], color="red", lw=4)
ax.plot(-2, 0, "o", ms=10, mfc="white", mec="red", mew=2)
ax.plot(3, 0, "o", ms=10, color="red")
ax.text(0.5, 0.35, r"$-2 < x \leq 3$", ha="center", fontsize=13)
ax.set_xlim(-5.5, 5.5)
ax.set_ylim(-0.6, 0.7)
ax.axis("off")
plt.savefig("numberline.png", dpi=300)
