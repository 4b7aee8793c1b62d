# Data: an annotated correlation heat map.
import matplotlib.pyplot as plt
import numpy as np

rng = np.random.default_rng(11)
data = rng.normal(size=(200, 5))
data[:, 1] += data[:, 0]
data[:, 4] -= data[:, 2]
corr = np.corrcoef(data, rowvar=False)
labels = ["a", "b", "c", "d", "e"]
fig, ax = plt.subplots(figsize=(5, 4.5))
im = ax.imshow(corr, cmap="RdBu_r", vmin=-1, vmax=1)
ax.set_xticks(range(5), labels)
ax.set_yticks(range(5), labels)
for i in range(5):
    for j in range(5):
        ax.text(j, i, f"{corr[i, j]:.2f}", ha="center", va="center", fontsize=8)
fig.colorbar(im, ax=ax)
ax.set_title("Correlation matrix")
plt.savefig("heat.png")
