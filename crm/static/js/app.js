// Lotse's own behaviour, wired by data- attributes (the CSP allows no inline scripts).
"use strict";

// htmx requests carry the CSRF token that Flask-WTF expects.
document.addEventListener("htmx:configRequest", (event) => {
  const token = document.querySelector('meta[name="csrf-token"]');
  if (token) {
    event.detail.headers["X-CSRFToken"] = token.content;
  }
});

// "/" focuses the search box, unless the user is typing somewhere.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) {
    return;
  }
  const target = event.target;
  if (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName)) {
    return;
  }
  const search = document.querySelector("[data-search-shortcut]");
  if (search) {
    event.preventDefault();
    search.focus();
  }
});

// A form with data-confirm asks before it is sent (deactivating, resetting, revoking).
document.addEventListener("submit", (event) => {
  const message = event.target.dataset ? event.target.dataset.confirm : null;
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

// Pickers: a <select data-typeahead="/organisations/typeahead"> finds its options on the server
// as the user types (folded search, so "muller" finds "Müller"); with data-create="true" a new
// name can be entered. A <select data-tom-select> gets the same control over its own options.
function initPickers(root) {
  if (typeof TomSelect === "undefined") {
    return;
  }
  const texts = document.body.dataset;
  root.querySelectorAll("[data-typeahead]").forEach((field) => {
    if (field.tomselect) {
      return;
    }
    const url = field.dataset.typeahead;
    const labelField = field.dataset.labelField || "name";
    const canCreate = field.dataset.create === "true";
    const single = field.tagName === "INPUT";
    const control = new TomSelect(field, {
      valueField: "id",
      labelField: labelField,
      searchField: [],
      score: () => () => 1,
      maxItems: single ? 1 : null,
      // A new name is sent as "new:<name>", so that a name made of digits is never an id.
      create: canCreate ? (input) => ({id: `new:${input}`, [labelField]: input}) : false,
      createOnBlur: canCreate,
      persist: false,
      plugins: single ? [] : ["remove_button"],
      loadThrottle: 200,
      load(query, callback) {
        this.clearOptions();
        fetch(`${url}?q=${encodeURIComponent(query)}`, {headers: {Accept: "application/json"}})
          .then((response) => response.json())
          .then(callback)
          .catch(() => callback());
      },
      render: {
        option_create: (data, escape) =>
          `<div class="create">${escape(texts.pickerCreate)} <strong>${escape(data.input)}</strong></div>`,
        // Where a new name may be entered, "new: ..." is the answer to finding nothing.
        no_results: canCreate ? null
          : (data, escape) => `<div class="no-results">${escape(texts.pickerNoResults)}</div>`,
        option: (item, escape) => {
          const detail = [item.latin_name, item.city, item.organisation, item.email]
            .filter(Boolean).join(" · ");
          return `<div>${escape(item[labelField])}${detail ? ` <small class="text-body-secondary">${escape(detail)}</small>` : ""}</div>`;
        },
      },
    });
    // A value chosen before (an id) gets its name from the server; a typed name stays.
    const value = single ? field.value.trim() : "";
    if (/^[0-9]+$/.test(value)) {
      fetch(`${url}?id=${value}`, {headers: {Accept: "application/json"}})
        .then((response) => response.json())
        .then((items) => {
          if (items.length) {
            control.addOption(items[0]);
            control.setValue(String(items[0].id), true);
          }
        });
    } else if (value) {
      const name = value.replace(/^new:/, "");
      control.addOption({id: value, [labelField]: name});
      control.setValue(value, true);
    }
  });
  root.querySelectorAll("select[data-tom-select]").forEach((select) => {
    if (!select.tomselect) {
      new TomSelect(select, {plugins: select.multiple ? ["remove_button"] : []});
    }
  });
}

// Tom Select keeps the original <select> in the page for the form; hide it from screen readers
// so that only the visible combobox is announced.
function hideReplacedSelects(root) {
  root.querySelectorAll(".tomselected").forEach((select) => {
    select.setAttribute("aria-hidden", "true");
  });
}

document.addEventListener("DOMContentLoaded", () => {
  initPickers(document);
  hideReplacedSelects(document);
});
document.addEventListener("htmx:load", (event) => {
  initPickers(event.target);
  hideReplacedSelects(event.target);
});

// The pipeline board: dragging a card to another column moves the lead (the server applies
// the stage rules). A refused move puts the card back and says why; a good one reloads the
// board so that the totals are right. Every card also has a plain form for the same move.
function say(message, kind) {
  const box = document.getElementById("board-messages");
  if (!box) {
    return;
  }
  box.replaceChildren();
  const alert = document.createElement("div");
  alert.className = `alert alert-${kind}`;
  if (kind === "danger") {
    alert.setAttribute("role", "alert");  // the box itself is a polite status region
  }
  alert.textContent = message;
  box.append(alert);
}

function initBoard(root) {
  if (typeof Sortable === "undefined") {
    return;
  }
  const token = document.querySelector('meta[name="csrf-token"]').content;
  root.querySelectorAll("[data-board-column]").forEach((column) => {
    if (column.dataset.sortable) {
      return;
    }
    column.dataset.sortable = "true";
    new Sortable(column, {
      group: "pipeline",
      draggable: "[data-lead]",
      animation: 150,
      onEnd: (event) => {
        if (event.from === event.to) {
          return;
        }
        const card = event.item;
        const putBack = () => event.from.insertBefore(card, event.from.children[event.oldIndex] || null);
        fetch(card.dataset.moveUrl, {
          method: "POST",
          headers: {"Accept": "application/json", "X-CSRFToken": token},
          body: new URLSearchParams({stage: event.to.dataset.stage, csrf_token: token}),
        })
          .then((response) => response.json().then((data) => ({ok: response.ok, data})))
          .then(({ok, data}) => {
            if (!ok) {
              putBack();
              say(data.error ? data.error.message : String(data), "danger");
              return;
            }
            say(data.message, "success");
            htmx.ajax("GET", window.location.href, {target: "#board", select: "#board", swap: "outerHTML"});
          })
          .catch(() => {
            putBack();
            say(document.body.dataset.boardOffline, "danger");
          });
      },
    });
  });
}

document.addEventListener("DOMContentLoaded", () => initBoard(document));
document.addEventListener("htmx:load", (event) => initBoard(event.target));

// The suggestions under the search box: Escape or a click elsewhere closes them, the down
// arrow walks into them, and the up arrow from the first one goes back to the box. The keys
// stop here: Bootstrap's own dropdown keys would look for a toggle the suggestions lack.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("[data-site-search]");
  if (!form) {
    return;
  }
  const box = form.querySelector("input[name=q]");
  const suggestions = form.querySelector("#site-search-suggestions");
  form.addEventListener("keydown", (event) => {
    const links = Array.from(suggestions.querySelectorAll("a"));
    const at = links.indexOf(event.target);
    if (event.key === "Escape" && suggestions.childElementCount) {
      suggestions.replaceChildren();
      box.focus();
    } else if (event.key === "ArrowDown" && links.length) {
      links[Math.min(at + 1, links.length - 1)].focus();
    } else if (event.key === "ArrowUp" && at >= 0) {
      (at === 0 ? box : links[at - 1]).focus();
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  });
  document.addEventListener("click", (event) => {
    if (!form.contains(event.target)) {
      suggestions.replaceChildren();
    }
  });
});
