# A 2x2 grid of different chart types sharing one figure.
import matplotlib.pyplot as plt
import numpy as np

rng = np.random.default_rng(3)
fig, axes = plt.subplots(2, 2, figsize=(8, 6))
x = np.linspace(0, 10, 100)
axes[0, 0].plot(x, np.exp(-x / 3) * np.sin(2 * x), color="C0")
axes[0, 0].set_title("damped oscillation")
axes[0, 1].scatter(rng.normal(size=80), rng.normal(size=80), c=rng.uniform(size=80), cmap="plasma", s=20)
axes[0, 1].set_title("scatter")
axes[1, 0].bar(["A", "B", "C"], [3, 7, 5], color=["#4c72b0", "#dd8452", "#55a868"])
axes[1, 0].set_title("bars")
axes[1, 1].pie([40, 35, 25], labels=["x", "y", "z"], autopct="%1.0f%%")
axes[1, 1].set_title("pie")
fig.suptitle("Four panels")
fig.tight_layout()
plt.savefig("grid.png")
