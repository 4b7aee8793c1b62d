# Statistics: a histogram with the fitted normal density (scipy.stats).
import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

rng = np.random.default_rng(7)
data = rng.normal(170, 8, size=1000)
mu, sigma = stats.norm.fit(data)
x = np.linspace(data.min(), data.max(), 200)
fig, ax = plt.subplots()
ax.hist(data, bins=30, density=True, color="skyblue", edgecolor="white", label="samples")
ax.plot(x, stats.norm.pdf(x, mu, sigma), "r-", lw=2, label=f"N({mu:.1f}, {sigma:.1f}²)")
ax.set_xlabel("height (cm)")
ax.set_ylabel("density")
ax.legend()
plt.savefig("hist.png")
