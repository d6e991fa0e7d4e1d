"""Playback on weak links (issue 16): the lesson player and our ladder against a bare ffmpeg ladder with
hls.js defaults and a progressive MP4, in Debian's headless Chromium throttled by the DevTools protocol.

Per network profile the three play side by side, each page throttled on its own
(Network.emulateNetworkConditions on its own CDP session). Playback starts at DOMContentLoaded (the
page's scripts have run); the window is counted from that play() call. Printed per case: page ready
(navigation to DOMContentLoaded), first frame, stalls and their seconds, seconds played in the window,
the heights shown (height@seconds), seconds in audio-only mode and the notice shown, and the bytes the
page received (CDP Network.dataReceived) as mean and peak Mbit/s beside the profile's rate. A calibration
first downloads a blob under each profile and reports the rate and the request latency the page saw.

    .venv/bin/python bench/playback.py                  # all profiles, 60 s windows (~7 min; encodes once)
    .venv/bin/python bench/playback.py --profiles 1M 3M --window 30
    .venv/bin/python bench/playback.py --serial --profiles 3M   # one page at a time
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import playback_media as media  # noqa: E402

PROBE = Path(__file__).resolve().parent / "playback_probe.js"
CHROMIUM = os.environ.get("LMS_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required"]
# A 1280x800 laptop screen at 2x: the lesson player is 1062x560 CSS pixels, so capLevelToPlayerSize allows 1080p.
VIEWPORT, SCALE = {"width": 1280, "height": 800}, 2


@dataclass(frozen=True)
class Profile:
    name: str
    steps: tuple[tuple[float, int, int], ...]  # (from second, kbit/s, latency ms)

    @property
    def kbps(self) -> int:
        return self.steps[0][1]


PROFILES = {p.name: p for p in [
    Profile("1M", ((0, 1000, 150),)), Profile("3M", ((0, 3000, 150),)), Profile("10M", ((0, 10000, 40),)),
    Profile("250k", ((0, 250, 300),)),
    Profile("drop", ((0, 1000, 150), (15, 250, 300), (35, 3000, 150))),  # a train out of town, and back
]}
VARIANTS = ("ours", "bare", "mp4")


def throttle(cdp, kbps: int, latency: int) -> None:
    rate = kbps * 1000 / 8
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": latency,
                                                  "downloadThroughput": rate, "uploadThroughput": rate})


def new_context(browser, state=None):
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=SCALE, storage_state=state)
    context.add_init_script(path=str(PROBE))
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    return context, page, cdp


def calibrate(browser, peer_url: str, root: Path) -> list[str]:
    """One page per profile, at once: a blob of ~3 s at the profile's rate, and a 1-byte request."""
    runs = []
    for profile in [None, *(p for p in PROFILES.values() if len(p.steps) == 1)]:
        context, page, cdp = new_context(browser)
        page.goto(peer_url + "/index.html")
        size = 4_000_000 if profile is None else profile.kbps * 1000 // 8 * 3
        if profile:
            throttle(cdp, profile.kbps, profile.steps[0][2])
        names = (media.blob(root, size), media.blob(root, 1))
        page.evaluate("""([big, small]) => { window.__cal = null; (async () => {
            const t = performance.now();  // the throttle holds a request back before it starts
            await (await fetch(small, {cache: 'no-store'})).arrayBuffer();
            const latency = performance.now() - t;
            await (await fetch(big, {cache: 'no-store'})).arrayBuffer();
            const e = performance.getEntriesByName(new URL(big, location).href)[0];
            window.__cal = {latency: latency, seconds: (e.responseEnd - e.responseStart) / 1000}; })(); }""",
                      list(names))
        runs.append((profile, size, context, page))
    lines = []
    for profile, size, context, page in runs:
        page.wait_for_function("window.__cal !== null", timeout=60_000)
        cal = page.evaluate("window.__cal")
        mbps = size * 8 / cal["seconds"] / 1e6
        if profile is None:
            lines.append(f"  unthrottled: {mbps:,.0f} Mbit/s, request latency {cal['latency']:.0f} ms")
        else:
            lines.append(f"  {profile.name:>5}: {mbps:6.3f} Mbit/s = {mbps * 1000 / profile.kbps:.2f} x the profile's "
                         f"{profile.kbps / 1000:g}; request latency {cal['latency']:.0f} ms (profile "
                         f"{profile.steps[0][2]} ms)")
        context.close()
    return lines


def run_profile(browser, profile: Profile, urls: dict, state, window: float, stack, serial: bool) -> dict:
    # A request in flight when the conditions change is not throttled by the new ones (seen here: the MP4's
    # one long request took 28.7 MB in 60 s of a 1 -> 0.25 -> 3 Mbit/s profile), so "drop" has no MP4.
    variants = VARIANTS if len(profile.steps) == 1 else VARIANTS[:2]
    if not serial:
        return run_cases(browser, profile, urls, state, window, stack, variants)
    return {k: v for variant in variants for k, v in run_cases(browser, profile, urls, state, window, stack,
                                                                  (variant,)).items()}


def run_cases(browser, profile: Profile, urls: dict, state, window: float, stack, variants) -> dict:
    """The variants side by side, each page on its own throttle, until each has played its window."""
    stack.query("DELETE FROM watch_progress")  # no resume position from an earlier run
    cases = {}
    for variant in variants:
        context, page, cdp = new_context(browser, state if variant == "ours" else None)
        received: list[tuple[float, int]] = []
        cdp.on("Network.dataReceived", lambda e, r=received: r.append((e["timestamp"], e["encodedDataLength"])))
        throttle(cdp, *profile.steps[0][1:])
        t_nav = time.monotonic()
        page.goto(urls[variant], wait_until="commit")
        cases[variant] = {"context": context, "page": page, "cdp": cdp, "received": received, "step": 0, "nav": t_nav}
    deadline = time.monotonic() + window + 90
    while time.monotonic() < deadline:
        pending = False
        for case in cases.values():
            try:
                elapsed = case["page"].evaluate("window.__playback && window.__playback.t0 !== null ? "
                                                "(performance.now() - window.__playback.t0) / 1000 : null")
            except Exception:  # between navigation and the first script
                elapsed = None
            if elapsed is None or elapsed < window:
                pending = True
            elif "end" not in case:
                case["end"], case["counted"] = time.monotonic(), len(case["received"])
            steps = profile.steps
            if elapsed is not None and case["step"] + 1 < len(steps) and elapsed >= steps[case["step"] + 1][0]:
                case["step"] += 1
                throttle(case["cdp"], *steps[case["step"]][1:])
        if not pending:
            break
        next(iter(cases.values()))["page"].wait_for_timeout(200)
    results = {}
    for variant, case in cases.items():
        rec = case["page"].evaluate("window.__playback")
        results[variant] = summarize(rec, case["received"][:case.get("counted")], window, case.get("end", time.monotonic()) - case["nav"])
        case["context"].close()
    return results


def summarize(rec: dict, received: list[tuple[float, int]], window: float, seconds: float) -> dict:
    """The viewer's figures from the probe's record; the page's bytes over its `seconds` from navigation."""
    ms = 1000.0
    in_window = [s for s in rec["samples"] if s[0] <= window * ms]
    # A stall: after the first frame, a run of sample intervals in which the picture advanced less than
    # half as fast as the clock, with the element waiting for data in it (a run without a 'waiting' is the
    # busy 2-core machine's decoder, counted apart as a hiccup: the MP4 at 10 Mbit/s shows them too).
    waits = [at for at, _ in rec["stalls"]] + ([rec["openStall"]] if rec["openStall"] is not None else [])
    runs, current = [], None
    first_at = rec["first"] if rec["first"] is not None else float("inf")
    for before, after in zip(in_window, in_window[1:]):
        if before[0] >= first_at and after[1] - before[1] < (after[0] - before[0]) / ms / 2:
            current = [before[0], after[0]] if current is None else [current[0], after[0]]
        elif current is not None:
            runs.append(current)
            current = None
    runs += [current] if current is not None else []
    waited = [r for r in runs if any(r[0] - 500 <= w <= r[1] for w in waits)]
    stalls, stalled_s = len(waited), sum(b - a for a, b in waited) / ms
    hiccups = len(runs) - len(waited)
    played = in_window[-1][1] if in_window else 0.0
    heights, seen = [], set()
    for at, height in rec["heights"]:
        if at <= window * ms and height not in seen:
            seen.add(height)
            heights.append(f"{height}@{at / ms:.1f}")
    audio_seconds = sum(0.25 for s in in_window if s[4] == "audio")
    last_audio = max((s[0] for s in in_window if s[4] == "audio"), default=None)
    video_after = last_audio is not None and any(s[0] > last_audio and s[2] > 0 for s in in_window)
    notices = sorted({s[5] for s in in_window if s[5]})
    total = sum(n for _, n in received)
    peak = 0.0
    if received:
        t0 = received[0][0]
        bins: dict[int, int] = {}
        for t, n in received:
            bins[int((t - t0) / 5)] = bins.get(int((t - t0) / 5), 0) + n
        peak = max(bins.values()) * 8 / 5 / 1e6
    return {"page": (rec["ready"] or 0) / ms, "first": None if rec["first"] is None else rec["first"] / ms,
            "stalls": stalls, "stall_s": stalled_s, "hiccups": hiccups, "played": played,
            "heights": heights, "audio_s": audio_seconds, "video_after": video_after, "notices": notices, "mb": total / 1e6,
            "mean_mbps": total * 8 / max(seconds, 0.001) / 1e6, "peak_mbps": peak, "error": rec["error"],
            "connection": rec["connection"], "top_at": rec["heights"][-1][0] / ms if rec["heights"] else None}


def goals(profile: str, r: dict, top: int) -> list[tuple[str, bool]]:
    first = r["first"] if r["first"] is not None else 1e9
    heights = [int(h.split("@")[0]) for h in r["heights"]]
    if profile == "1M":
        return [("first frame <= 2 s", first <= 2), ("0 stalls", r["stalls"] == 0), (">= 57 s played", r["played"] >= 57)]
    if profile == "3M":
        return [("first frame <= 1 s", first <= 1), ("0 stalls", r["stalls"] == 0),
                (">= 480p shown", any(h >= 480 for h in heights))]
    if profile == "10M":
        top_at = next((float(h.split("@")[1]) for h in r["heights"] if int(h.split("@")[0]) >= top), None)
        return [(f"{top}p within 10 s", top_at is not None and top_at <= 10), ("0 stalls", r["stalls"] == 0)]
    if profile == "drop":
        return [("audio-only with a notice while at 250k", r["audio_s"] > 0 and bool(r["notices"])),
                ("video again after the link recovers", bool(r.get("video_after")))]
    return []


def fmt(variant: str, r: dict) -> str:
    first = "never" if r["first"] is None else f"{r['first']:.2f}"
    audio = f"{r['audio_s']:.0f}" if r["audio_s"] else "-"
    return (f"  {variant:<5} {r['page']:6.2f} {first:>7} {r['stalls']:4d} {r['stall_s']:7.1f} {r['played']:7.1f} "
            f"{audio:>6} {r['hiccups']:3d} {r['mb']:6.1f} {r['mean_mbps']:6.2f} {r['peak_mbps']:6.2f}  {' '.join(r['heights']) or '-'}"
            + (f"  error: {r['error']}" if r["error"] else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profiles", nargs="+", default=list(PROFILES), choices=list(PROFILES))
    parser.add_argument("--window", type=float, default=60)
    parser.add_argument("--seconds", type=int, default=60, help="source length")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "kakehashi-playback")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--serial", action="store_true", help="one page at a time (3x as long; no page "
                        "shares the 2 cores with another's decoding)")
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    print(f"kakehashi playback benchmark, {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; "
          f"{os.cpu_count()} CPUs, {platform.machine()}, load {os.getloadavg()[0]:.1f}")
    t_start, cpu_start = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
    source = media.make_source(args.cache, args.seconds)
    stack, lesson, ours = media.start_ours(args.cache, source, args.seconds)
    nginx = None
    try:
        root = media.make_peers(args.cache, source, args.seconds, media.ROOT / "static" / "vendor" / "hls.js")
        nginx = media.Nginx(root, args.cache / "nginx")
        print(f"source: {source.name}, {source.stat().st_size / 1e6:.0f} MB; prepared in "
              f"{time.monotonic() - t_start:.0f} s (cached under {args.cache})")
        print("ours: " + describe(ours["folder"]))
        print("bare: " + describe(root / "bare"))
        print(f"mp4: progressive.mp4 1280x720, {(root / 'progressive.mp4').stat().st_size * 8 / args.seconds / 1e3:.0f} kbit/s")
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            print("throttle check (bytes the page received / time):")
            for line in calibrate(browser, nginx.url, root):
                print(line)
            context = browser.new_context()
            page = context.new_page()
            page.goto(stack.app_url + "/login")
            page.locator("input[name=login]").fill(media.STUDENT)
            page.locator("input[name=password]").fill(media.PASSWORD)
            page.locator("main form button[type=submit]").first.click()
            page.wait_for_url(lambda url: not url.endswith("/login"))
            state = context.storage_state()
            context.close()
            urls = {"ours": f"{stack.app_url}/offerings/1/lessons/{lesson}", "bare": nginx.url + "/bare.html",
                    "mp4": nginx.url + "/mp4.html"}
            top = max((int(r[:-1]) for r in ours["renditions"] if r.endswith("p")), default=0)
            figures = {}
            for name in args.profiles:
                profile = PROFILES[name]
                steps = ", ".join(f"{kbps / 1000:g} Mbit/s {lat} ms from {at:g} s" for at, kbps, lat in profile.steps)
                print(f"\n{name}: {steps}; window {args.window:g} s")
                print("  case   page s  first  stalls stall s played  audio s hic    MB  mean  peak  heights@s "
                      "(mean Mbit/s from navigation, peak over 5 s)")
                results = run_profile(browser, profile, urls, state, args.window, stack, args.serial)
                figures[name] = results
                for variant, r in results.items():
                    print(fmt(variant, r))
                for variant in ("ours",):
                    r = results[variant]
                    if r["notices"]:
                        print(f"  notice shown: {' | '.join(r['notices'])}")
                    marks = goals(name, r, top)
                    if marks:
                        print("  goals (ours): " + "; ".join(f"{g}: {'OK' if ok else 'MISSED'}" for g, ok in marks))
            browser.close()
    finally:
        if nginx:
            nginx.stop()
        stack.stop()
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"\nrun: {time.monotonic() - t_start:.0f} s wall, {cpu.ru_utime + cpu.ru_stime - cpu_start.ru_utime - cpu_start.ru_stime:.0f} "
          f"CPU s of reaped children (encodes; the browser and servers are not reaped until the end)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    return 0


def describe(folder: Path) -> str:
    """The rungs as published: name, kbit/s on disk (segments / duration), segment count and first segment."""
    from lms.video.hls import read_media_playlist

    parts = []
    for playlist in folder.glob("*/index.m3u8"):
        segments = read_media_playlist(playlist)
        seconds = sum(d for d, _ in segments)
        size = sum((playlist.parent / uri).stat().st_size for _, uri in segments)
        first = (playlist.parent / segments[0][1]).stat().st_size
        parts.append((-size / seconds, f"{playlist.parent.name} {size * 8 / seconds / 1e3:.0f}k ({len(segments)} "
                                       f"segs, first {segments[0][0]:.2f} s {first / 1e3:.0f} kB)"))
    parts = [text for _, text in sorted(parts)]
    master = next(iter(folder.glob("master.m3u8")), None)
    order = [line for line in master.read_text().splitlines() if line and not line.startswith("#")] if master else []
    return "; ".join(parts) + f"; master lists {', '.join(order)}"


if __name__ == "__main__":
    sys.exit(main())
