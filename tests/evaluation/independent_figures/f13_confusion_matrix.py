# Machine learning: a confusion matrix of three classes, each cell annotated with its count.
import matplotlib.pyplot as plt
import numpy as np

classes = ["cat", "dog", "bird"]
counts = np.array([[42, 6, 2], [5, 39, 6], [1, 4, 45]])

fig, ax = plt.subplots(figsize=(5, 4.5))
image = ax.imshow(counts, cmap="Blues")
for i in range(3):
    for j in range(3):
        ax.text(j, i, str(counts[i, j]), ha="center", va="center",
                color="white" if counts[i, j] > 30 else "black")
ax.set_xticks(range(3), classes)
ax.set_yticks(range(3), classes)
ax.set_xlabel("predicted")
ax.set_ylabel("true")
fig.colorbar(image, ax=ax)
plt.show()
