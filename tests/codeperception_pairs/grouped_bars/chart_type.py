# Variant: the same values as a line chart with markers instead of grouped bars.
import matplotlib.pyplot as plt
import numpy as np

subjects = ["Physics", "Chemistry", "Biology", "Maths"]
y2022 = [23, 17, 35, 29]
y2023 = [25, 21, 31, 34]
x = np.arange(len(subjects))
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(x, y2022, "o-", color="#1f77b4", label="2022")
ax.plot(x, y2023, "s-", color="#ff7f0e", label="2023")
for xs, ys in ((x, y2022), (x, y2023)):
    for xi, yi in zip(xs, ys, strict=True):
        ax.annotate(str(yi), (xi, yi), textcoords="offset points", xytext=(0, 4), ha="center", fontsize=9)
ax.set_xticks(x, subjects)
ax.set_ylim(0, 40)
ax.set_ylabel("students")
ax.set_title("Enrolment by subject")
ax.legend(loc="upper left")
plt.show()
