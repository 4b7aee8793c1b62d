# Variant: the same chart, other colours for the two series.
import matplotlib.pyplot as plt
import numpy as np

subjects = ["Physics", "Chemistry", "Biology", "Maths"]
y2022 = [23, 17, 35, 29]
y2023 = [25, 21, 31, 34]
x = np.arange(len(subjects))
width = 0.38
fig, ax = plt.subplots(figsize=(7, 4))
bars = ax.bar(x - width / 2, y2022, width, color="#2ca02c", label="2022")
ax.bar_label(bars, padding=2, fontsize=9)
bars = ax.bar(x + width / 2, y2023, width, color="#9467bd", label="2023")
ax.bar_label(bars, padding=2, fontsize=9)
ax.set_xticks(x, subjects)
ax.set_ylim(0, 40)
ax.set_ylabel("students")
ax.set_title("Enrolment by subject")
ax.legend(loc="upper left")
plt.show()
