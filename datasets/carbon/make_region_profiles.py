"""Derive datasets/carbon/region_profiles.csv from the shared public traces (not shipped).

Run: .venv/bin/python datasets/carbon/make_region_profiles.py [/work/shared/data/carbon]
The mean and weekend ratio of de/gb/fr are the figures published by Wiesner et al. (tables A
and B of the carbon README); all other parameters are fitted with eventsim's fit_profile.
"""

from __future__ import annotations

import csv
import dataclasses
import sys
from pathlib import Path

import polars as pl

from eventsim.carbon.loaders import load_csv, load_watttime_csv
from eventsim.carbon.profile import default_profiles_path, fit_profile, profile_row

LWA = "Wiesner et al. 2021 (Let's Wait Awhile), ENTSO-E 2020"
PUBLISHED = {  # mean (table A) and 1 - "weekend lower by" (table B)
    "de": ("ger_ci.csv", 313.396, 1 - 0.2542),
    "gb": ("gb_ci.csv", 212.942, 1 - 0.2268),
    "fr": ("fr_ci.csv", 56.337, 1 - 0.2215),
}


def main(root: Path) -> None:
    rows = []
    for region, (name, mean, weekend) in PUBLISHED.items():
        trace = load_csv(root / "lets-wait-awhile" / name, gaps="keep").filter(
            pl.col("timestamp").dt.year() == 2020
        )
        fitted = fit_profile(
            trace, region, source=f"{LWA}: mean, weekend ratio published; shape fitted"
        )
        rows.append(
            dataclasses.replace(fitted, mean_g_per_kwh=mean, weekend_ratio=round(weekend, 4))
        )
    ciso = load_csv(
        root / "sustaindc" / "CISO_2022_hourly_avgCI.csv", value_column="avg_CI", gaps="interpolate"
    )
    rows.append(
        fit_profile(
            ciso, "ciso", source="EIA-930 via SustainDC (dc-rl), CISO 2022 average; all fitted"
        )
    )
    moer = load_watttime_csv(root / "vessim" / "watttime_example.csv", units="g_per_kwh")
    rows.append(
        fit_profile(
            moer,
            "caiso_north_moer",
            source="WattTime MOER via Vessim, CAISO_NORTH Jun-Jul 2023 (marginal); all fitted",
        )
    )
    out = default_profiles_path()
    with out.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(profile_row(rows[0])))
        writer.writeheader()
        writer.writerows(profile_row(r) for r in rows)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/work/shared/data/carbon"))
