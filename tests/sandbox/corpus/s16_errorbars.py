# Experiment: measurements with error bars and a least-squares line.
import matplotlib.pyplot as plt
import numpy as np

rng = np.random.default_rng(5)
x = np.arange(1, 11)
y = 2.1 * x + 0.5 + rng.normal(0, 1.2, size=x.size)
err = rng.uniform(0.5, 1.5, size=x.size)
slope, intercept = np.polyfit(x, y, 1)
fig, ax = plt.subplots()
ax.errorbar(x, y, yerr=err, fmt="o", capsize=3, color="tab:purple", label="measured")
ax.plot(x, slope * x + intercept, "k--", label=f"fit: y = {slope:.2f}x + {intercept:.2f}")
ax.set_xlabel("voltage (V)")
ax.set_ylabel("current (mA)")
ax.legend(loc="upper left")
plt.savefig("ohm.png")
plt.close()
