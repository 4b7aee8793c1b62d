// Entry point: tabs, the header, and each panel's handlers.
import { installKeyForm, loadModels, loadReadiness } from "./header.js";
import { installLocate } from "./locate.js";
import { installStem } from "./stem.js";
import { installAsk } from "./ask.js";

// Buttons with role=tab: click, Enter or Space selects one and shows its panel; arrows move along.
function installTabs(list) {
  const tabs = [...list.querySelectorAll('[role="tab"]')];
  const select = (chosen) => {
    for (const tab of tabs) {
      const on = tab === chosen;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      document.getElementById(tab.getAttribute("aria-controls")).hidden = !on;
    }
  };
  tabs.forEach((tab, index) => {
    tab.addEventListener("click", () => select(tab));
    tab.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (step) {
        const next = tabs[(index + step + tabs.length) % tabs.length];
        select(next);
        next.focus();
      }
    });
  });
  select(tabs.find((tab) => tab.getAttribute("aria-selected") === "true") || tabs[0]);
}

document.querySelectorAll('[role="tablist"]').forEach(installTabs);
installKeyForm();
installLocate();
installStem();
installAsk();
loadModels();
loadReadiness();
