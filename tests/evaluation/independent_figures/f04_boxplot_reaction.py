# Biology: reaction times under four conditions, box plots with the raw points beside them.
import matplotlib.pyplot as plt
import numpy as np

rng = np.random.default_rng(11)
conditions = ["control", "caffeine", "sleepy", "noise"]
data = [rng.normal(mu, sd, 30) for mu, sd in ((310, 25), (285, 20), (360, 40), (330, 30))]

fig, ax = plt.subplots(figsize=(6.5, 4.5))
ax.boxplot(data, notch=True, patch_artist=True, boxprops=dict(facecolor="lightsteelblue"))
for i, values in enumerate(data, start=1):
    ax.scatter(i + rng.uniform(-0.12, 0.12, len(values)), values, s=8, color="black", alpha=0.5)
ax.set_xticks(range(1, 5), conditions)
ax.set_ylabel("reaction time (ms)")
ax.set_title("Reaction time by condition")
plt.show()
