// The land map: parcels coloured by rates status, ward outlines, a legend and a table of
// the parcels in view (the text alternative for screen readers and keyboard users).
//
// Everything the page says is rendered by the template (translated) and read here from
// data attributes; colours come from CSS classes (land.css), so this file holds no
// user-facing text and the Content-Security-Policy needs no inline code. Map tiles are
// drawn only when the county configured a tile URL (data-tile-url); otherwise the map
// works from our own data alone, with no request leaving the county's server.
//
// Two modes:
//   data-mode="overview": fetches parcels in the visible box from data-parcels-url
//     (?bbox=west,south,east,north) whenever the view changes, and fills the table.
//   data-mode="parcel": draws one boundary given in data-boundary (a GeoJSON geometry).
(function () {
  "use strict";

  var container = document.getElementById("land-map");
  if (!container || typeof window.L === "undefined") {
    return;
  }
  var L = window.L;
  var data = container.dataset;

  function number(value, fallback) {
    var parsed = parseFloat(value);
    return isNaN(parsed) ? fallback : parsed;
  }

  function format(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (match, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : match;
    });
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  // Status labels and classes come from the legend the template rendered.
  var statusLabels = {};
  var legend = document.getElementById("land-map-legend");
  if (legend) {
    Array.prototype.forEach.call(legend.querySelectorAll("[data-status]"), function (item) {
      statusLabels[item.dataset.status] = item.dataset.label || item.textContent.trim();
    });
  }

  function statusLabel(status) {
    return statusLabels[status] || status;
  }

  function parcelStyle(status) {
    return {
      className: "land-parcel land-parcel--" + String(status || "unknown").replace(/[^a-z_]/g, ""),
      weight: 1,
      fillOpacity: 0.65,
    };
  }

  var map = L.map(container, {
    center: [number(data.centreLat, -0.27), number(data.centreLon, 36.38)],
    zoom: number(data.zoom, 12),
    minZoom: 8,
    maxZoom: 19,
    keyboard: true,
    attributionControl: Boolean(data.tileUrl),
    zoomSnap: 0.5,
  });
  if (data.tileUrl) {
    L.tileLayer(data.tileUrl, {
      attribution: data.tileAttribution || "",
      maxZoom: 19,
      crossOrigin: true,
    }).addTo(map);
    if (map.attributionControl) {
      map.attributionControl.setPrefix(false);
    }
  }

  // Leaflet makes the map itself focusable (arrows pan, + and - zoom); give it a name.
  container.setAttribute("role", "region");
  if (data.label) {
    container.setAttribute("aria-label", data.label);
  }

  function fetchJson(url, signal) {
    return fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      signal: signal,
    }).then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    });
  }

  function showError() {
    var box = document.getElementById("land-map-error");
    if (box) {
      box.hidden = false;
    }
  }

  // --- Ward outlines ---------------------------------------------------------------------
  if (data.wardsUrl) {
    fetchJson(data.wardsUrl)
      .then(function (collection) {
        var wards = L.geoJSON(collection, {
          interactive: false,
          style: function () {
            return { className: "land-ward", weight: 2, fill: false };
          },
          onEachFeature: function (feature, layer) {
            var name = feature.properties && feature.properties.name;
            if (name) {
              layer.bindTooltip(String(name), {
                permanent: true,
                direction: "center",
                className: "land-ward-label",
                interactive: false,
              });
            }
          },
        }).addTo(map);
        wards.bringToBack();
      })
      .catch(function () {
        // The outlines are context only: the parcels still show without them.
      });
  }

  // Ward names clutter the map once a few parcels fill the screen.
  function updateZoomClass() {
    container.classList.toggle("land-map--close", map.getZoom() >= 14);
  }
  map.on("zoomend", updateZoomClass);
  updateZoomClass();

  // --- One parcel ------------------------------------------------------------------------
  if (data.mode === "parcel") {
    var geometry = null;
    try {
      geometry = JSON.parse(data.boundary || "null");
    } catch (error) {
      geometry = null;
    }
    if (geometry) {
      var shape = L.geoJSON(geometry, { style: parcelStyle(data.status) }).addTo(map);
      map.fitBounds(shape.getBounds(), { maxZoom: 17, padding: [20, 20] });
    }
    return;
  }

  // --- Parcels in view -------------------------------------------------------------------
  var parcels = L.layerGroup().addTo(map);
  var layersByNumber = {};
  var tableBody = document.getElementById("land-map-rows");
  var count = document.getElementById("land-map-count");
  var maxRows = number(data.maxRows, 200);
  var inFlight = null;
  var timer = null;
  // The parcel whose popup is open: reopened after the parcels in view are reloaded.
  var selectedNumber = null;

  function popupContent(properties) {
    var box = element("div", "land-popup");
    var heading = element("p", "govuk-body govuk-!-font-weight-bold govuk-!-margin-bottom-1");
    if (properties.url) {
      var link = element("a", "govuk-link", properties.number);
      link.href = properties.url;
      heading.appendChild(link);
    } else {
      heading.textContent = properties.number;
    }
    box.appendChild(heading);
    var details = [properties.ward, statusLabel(properties.status)];
    if (properties.balance !== undefined && properties.balance !== null && data.balanceLabel) {
      // "1,000.00" in both languages, as kaunti.core.money writes it (docs/glossary.md).
      var amount = Number(properties.balance).toLocaleString("en-KE", {
        minimumFractionDigits: 2,
        maximumFractionDigits: 2,
      });
      details.push(data.balanceLabel + " " + amount);
    }
    box.appendChild(element("p", "govuk-body-s govuk-!-margin-bottom-0", details.join(" · ")));
    return box;
  }

  function focusPopupLink(layer) {
    var popup = layer.getPopup() && layer.getPopup().getElement();
    var target = popup && popup.querySelector("a.govuk-link");
    if (target) {
      target.focus();
    }
  }

  function showParcel(parcelNumber) {
    var layer = layersByNumber[parcelNumber];
    if (!layer) {
      return;
    }
    selectedNumber = parcelNumber;
    map.fitBounds(layer.getBounds(), { maxZoom: 17, padding: [40, 40] });
    layer.openPopup();
    focusPopupLink(layer);
  }

  // The table lists the parcels in view a page at a time: the whole county would make
  // the page thousands of pixels long under the map.
  var pageRows = number(data.pageRows, 25);
  var pager = document.getElementById("land-map-pages");
  var pagerText = document.getElementById("land-map-page");
  var previousLink = document.getElementById("land-map-previous");
  var nextLink = document.getElementById("land-map-next");
  var tableRegion = tableBody ? tableBody.closest(".kaunti-table-scroll") : null;
  var tableFeatures = [];
  var tablePage = 0;

  function fillTable(features, truncated) {
    if (count) {
      var template = features.length === 1 ? data.countOne : data.countMany;
      var text = format(template, { count: features.length });
      if (truncated && data.truncatedText) {
        text += " " + data.truncatedText;
      }
      count.textContent = text;
    }
    tableFeatures = features.slice(0, maxRows);
    tablePage = 0;
    showTablePage();
  }

  function showTablePage() {
    if (!tableBody) {
      return;
    }
    var pages = Math.max(1, Math.ceil(tableFeatures.length / pageRows));
    tablePage = Math.min(Math.max(tablePage, 0), pages - 1);
    while (tableBody.firstChild) {
      tableBody.removeChild(tableBody.firstChild);
    }
    tableFeatures.slice(tablePage * pageRows, (tablePage + 1) * pageRows).forEach(addRow);
    if (pager) {
      pager.hidden = pages < 2;
      previousLink.parentNode.hidden = tablePage === 0;
      nextLink.parentNode.hidden = tablePage === pages - 1;
      pagerText.textContent = format(pager.dataset.pageText, { page: tablePage + 1, pages: pages });
    }
  }

  function turnTablePage(event, step) {
    event.preventDefault();
    tablePage += step;
    showTablePage();
    if (tableRegion) {
      tableRegion.focus();
    }
  }

  if (pager) {
    previousLink.addEventListener("click", function (event) {
      turnTablePage(event, -1);
    });
    nextLink.addEventListener("click", function (event) {
      turnTablePage(event, 1);
    });
  }

  function addRow(feature) {
    var properties = feature.properties || {};
    var row = element("tr", "govuk-table__row");
    var numberCell = element("td", "govuk-table__cell");
    if (properties.url) {
      var link = element("a", "govuk-link", properties.number);
      link.href = properties.url;
      numberCell.appendChild(link);
    } else {
      numberCell.textContent = properties.number;
    }
    row.appendChild(numberCell);
    row.appendChild(element("td", "govuk-table__cell", properties.ward || ""));
    var statusCell = element("td", "govuk-table__cell");
    statusCell.appendChild(
      element(
        "span",
        "land-swatch land-swatch--" + String(properties.status || "").replace(/[^a-z_]/g, ""),
      ),
    );
    statusCell.appendChild(document.createTextNode(statusLabel(properties.status)));
    row.appendChild(statusCell);
    row.appendChild(
      element(
        "td",
        "govuk-table__cell govuk-table__cell--numeric",
        properties.balance === null || properties.balance === undefined ? "" : properties.balance,
      ),
    );
    var actionCell = element("td", "govuk-table__cell");
    var button = element("button", "govuk-button govuk-button--secondary govuk-!-margin-bottom-0 land-show-button", data.showText || "Show");
    button.type = "button";
    button.addEventListener("click", function () {
      showParcel(properties.number);
    });
    actionCell.appendChild(button);
    row.appendChild(actionCell);
    tableBody.appendChild(row);
  }

  function load() {
    if (!data.parcelsUrl) {
      return;
    }
    if (inFlight) {
      inFlight.abort();
    }
    inFlight = typeof AbortController === "function" ? new AbortController() : null;
    var bounds = map.getBounds();
    var bbox = [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()]
      .map(function (value) {
        return value.toFixed(5);
      })
      .join(",");
    var separator = data.parcelsUrl.indexOf("?") === -1 ? "?" : "&";
    container.setAttribute("aria-busy", "true");
    fetchJson(data.parcelsUrl + separator + "bbox=" + bbox, inFlight ? inFlight.signal : undefined)
      .then(function (collection) {
        var reopen = selectedNumber;
        var active = document.activeElement;
        var hadFocus = Boolean(active && active.closest && active.closest(".leaflet-popup"));
        parcels.clearLayers();
        layersByNumber = {};
        var features = (collection && collection.features) || [];
        features.forEach(function (feature) {
          var properties = feature.properties || {};
          var layer = L.geoJSON(feature, { style: parcelStyle(properties.status) });
          layer.bindPopup(popupContent(properties));
          layer.on("popupopen", function () {
            selectedNumber = properties.number;
          });
          layer.addTo(parcels);
          layersByNumber[properties.number] = layer;
        });
        fillTable(features, Boolean(collection && collection.truncated));
        selectedNumber = null;
        if (reopen && layersByNumber[reopen]) {
          layersByNumber[reopen].openPopup();
          if (hadFocus) {
            focusPopupLink(layersByNumber[reopen]);
          }
        }
        container.setAttribute("aria-busy", "false");
        container.dataset.loaded = "true";
      })
      .catch(function (error) {
        if (error && error.name === "AbortError") {
          return;
        }
        container.setAttribute("aria-busy", "false");
        showError();
      });
  }

  function scheduleLoad() {
    if (timer) {
      window.clearTimeout(timer);
    }
    timer = window.setTimeout(load, 250);
  }

  var west = number(data.bboxWest, NaN);
  var south = number(data.bboxSouth, NaN);
  var east = number(data.bboxEast, NaN);
  var north = number(data.bboxNorth, NaN);
  if (!isNaN(west) && !isNaN(south) && !isNaN(east) && !isNaN(north)) {
    map.fitBounds(
      [
        [south, west],
        [north, east],
      ],
      { padding: [10, 10] },
    );
  }
  map.on("moveend", scheduleLoad);
  map.on("popupclose", function () {
    selectedNumber = null;
  });
  load();
})();
