# Energy: electricity generation by source, stacked bars per year.
import matplotlib.pyplot as plt
import numpy as np

years = ["2016", "2018", "2020", "2022"]
coal = np.array([42, 36, 27, 20])
gas = np.array([30, 32, 33, 31])
wind = np.array([8, 12, 18, 24])
solar = np.array([2, 5, 9, 15])

fig, ax = plt.subplots(figsize=(6.5, 4.5))
bottom = np.zeros(len(years))
for values, label, colour in ((coal, "coal", "#4d4d4d"), (gas, "gas", "#f4a582"),
                              (wind, "wind", "#92c5de"), (solar, "solar", "#fddb6d")):
    ax.bar(years, values, bottom=bottom, label=label, color=colour, width=0.6)
    bottom += values
ax.set_ylabel("generation (TWh)")
ax.set_title("Generation by source")
ax.legend(ncol=2, loc="upper left")
ax.set_ylim(0, 100)
plt.show()
