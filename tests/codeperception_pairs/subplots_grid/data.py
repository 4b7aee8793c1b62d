# Variant: the same panels of other data.
import matplotlib.pyplot as plt
import numpy as np

rng = np.random.default_rng(3)
fig, axes = plt.subplots(2, 2, figsize=(8, 6))
t = np.linspace(0, 10, 200)
axes[0, 0].plot(t, np.exp(-t / 6) * np.cos(3 * t), color="C0")
axes[0, 0].set_title("damped oscillation")
px, py = rng.uniform(-1, 3, size=60), rng.uniform(-2, 0, size=60)
axes[0, 1].scatter(px, py, color="#d62728", s=18)
axes[0, 1].set_title("scatter")
axes[1, 0].bar(["A", "B", "C"], [8, 2, 6], color=["#4c72b0", "#dd8452", "#55a868"])
axes[1, 0].set_title("bars")
axes[1, 1].pie([15, 25, 60], labels=["x", "y", "z"], colors=["#8172b3", "#937860", "#da8bc3"],
               autopct="%1.0f%%")
axes[1, 1].set_title("pie")
fig.suptitle("Four panels")
fig.tight_layout()
plt.show()
