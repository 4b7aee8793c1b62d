# Statistics: scatter plot coloured by group, with a linear regression from scipy.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.stats import linregress

rng = np.random.default_rng(9)
df = pd.DataFrame({"x": rng.uniform(0, 10, 120)})
df["group"] = np.where(df["x"] > 5, "high", "low")
df["y"] = 1.5 * df["x"] + rng.normal(0, 2, len(df))
fit = linregress(df["x"], df["y"])
fig, ax = plt.subplots(figsize=(6, 4.5))
for name, part in df.groupby("group"):
    ax.scatter(part["x"], part["y"], label=name, alpha=0.7)
xs = np.linspace(0, 10, 50)
ax.plot(xs, fit.intercept + fit.slope * xs, "k-", label=f"r = {fit.rvalue:.2f}")
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.legend()
plt.savefig("scatter.png")
