import re
import time

from tests.browser.conftest import TEACHER


def login(page, url, acct):
    page.goto(url + "/login")
    page.fill("#username", acct.username)
    page.fill("#password", acct.password)
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(r"/learning"))

def test_scratch(live_server, page):
    url = live_server.url
    login(page, url, TEACHER)
    page.goto(url + "/courses")
    page.click("text=家校沟通的第一步")
    page.click("form[action$='/enroll'] button")
    page.wait_for_url(re.compile(r"/lessons/\d+"))
    print(page.url)
    print(page.evaluate("() => { const v = document.getElementById('video'); return [v.canPlayType('video/mp4; codecs=\"avc1.42E01E\"'), v.readyState, v.duration, v.error && v.error.code]; }"))
    page.evaluate("document.getElementById('video').play()")
    t0 = time.time()
    for i in range(14):
        time.sleep(1)
        print(round(time.time()-t0,1), page.evaluate("() => { const v = document.getElementById('video'); return [v.currentTime, v.paused, v.ended, document.visibilityState, v.error && v.error.code]; }"), page.inner_text("#covered-pct"), page.inner_text("#credited"), page.inner_text("#player-status"))
    # visibility experiments
    p2 = page.context.new_page()
    p2.bring_to_front()
    time.sleep(1)
    print("after new page:", page.evaluate("document.visibilityState"), p2.evaluate("document.visibilityState"))
