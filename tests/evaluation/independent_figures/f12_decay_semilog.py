# Nuclear physics: activity of two isotopes over time, on a logarithmic axis.
import matplotlib.pyplot as plt
import numpy as np

t = np.linspace(0, 40, 200)
fig, ax = plt.subplots(figsize=(6.5, 4.5))
for half_life, label, style in ((6.0, "isotope X (6 h)", "-"), (15.0, "isotope Y (15 h)", "--")):
    ax.semilogy(t, 1000 * 0.5 ** (t / half_life), style, linewidth=2, label=label)
ax.set_xlabel("time (h)")
ax.set_ylabel("activity (Bq)")
ax.grid(True, which="both", alpha=0.3)
ax.legend()
ax.set_title("Radioactive decay")
plt.show()
