# Data: grouped bars with value labels, from a pandas DataFrame.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

df = pd.DataFrame({"2022": [23, 17, 35, 29], "2023": [25, 21, 31, 34]},
                  index=["Physics", "Chemistry", "Biology", "Maths"])
x = np.arange(len(df))
width = 0.38
fig, ax = plt.subplots(figsize=(7, 4))
for i, year in enumerate(df.columns):
    bars = ax.bar(x + (i - 0.5) * width, df[year], width, label=year)
    ax.bar_label(bars, padding=2, fontsize=9)
ax.set_xticks(x, df.index)
ax.set_ylabel("students")
ax.set_title("Enrolment by subject")
ax.legend()
plt.savefig("bars.png", dpi=300)
