# Statistics: heights of two groups as step histograms, with each group's mean.
import matplotlib.pyplot as plt
import numpy as np

rng = np.random.default_rng(3)
group_a = rng.normal(165, 7, 400)
group_b = rng.normal(178, 8, 400)
bins = np.arange(140, 206, 3)

fig, ax = plt.subplots(figsize=(7, 4.2))
ax.hist(group_a, bins=bins, histtype="step", linewidth=2, color="tab:orange", label="group A")
ax.hist(group_b, bins=bins, histtype="step", linewidth=2, color="tab:blue", label="group B")
ax.axvline(group_a.mean(), color="tab:orange", linestyle="--")
ax.axvline(group_b.mean(), color="tab:blue", linestyle="--")
ax.set_xlabel("height (cm)")
ax.set_ylabel("count")
ax.legend()
plt.show()
