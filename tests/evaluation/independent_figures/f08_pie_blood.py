# Biology: the share of blood types in a population, one slice pulled out.
import matplotlib.pyplot as plt

labels = ["O", "A", "B", "AB"]
shares = [45, 40, 11, 4]
colours = ["#d73027", "#fc8d59", "#91bfdb", "#4575b4"]

fig, ax = plt.subplots(figsize=(5, 5))
ax.pie(shares, labels=labels, colors=colours, explode=(0, 0, 0, 0.15), autopct="%1.0f%%", startangle=90)
ax.set_title("Blood types")
ax.axis("equal")
plt.show()
