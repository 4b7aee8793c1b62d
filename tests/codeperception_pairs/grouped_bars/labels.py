# Variant: the same chart, other category names, title, axis label and legend texts.
import matplotlib.pyplot as plt
import numpy as np

subjects = ["Optics", "Organic", "Ecology", "Algebra"]
y2022 = [23, 17, 35, 29]
y2023 = [25, 21, 31, 34]
x = np.arange(len(subjects))
width = 0.38
fig, ax = plt.subplots(figsize=(7, 4))
bars = ax.bar(x - width / 2, y2022, width, color="#1f77b4", label="autumn")
ax.bar_label(bars, padding=2, fontsize=9)
bars = ax.bar(x + width / 2, y2023, width, color="#ff7f0e", label="spring")
ax.bar_label(bars, padding=2, fontsize=9)
ax.set_xticks(x, subjects)
ax.set_ylim(0, 40)
ax.set_ylabel("enrolled")
ax.set_title("Course sizes")
ax.legend(loc="upper left")
plt.show()
