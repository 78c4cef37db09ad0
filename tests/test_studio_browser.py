"""The studio page in headless Chromium (Debian's chromium and
chromium-driver, which .ci/run installs), driven by Selenium.

The server runs in a thread with a tiny random model, its renders
filtered and retried off pitch by default; a render is 2 bundled sounds, 2
points, 2 pitches of 0.05 s.
"""

import re
import shutil
import threading
import time

from conftest import tiny_pitch_model
import pytest

from magenta_wavenet.webapp import app as app_lib

webdriver = pytest.importorskip('selenium.webdriver')
uvicorn = pytest.importorskip('uvicorn')
# pylint: disable=wrong-import-position
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = shutil.which('chromium')
CHROMEDRIVER = shutil.which('chromedriver')
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason='needs Debian\'s chromium and chromium-driver (apt-get install '
    'chromium chromium-driver; .ci/run installs them).')
WAIT_SECONDS = 120


@pytest.fixture(scope='module')
def url(tmp_path_factory):
  """The studio served on a free port of 127.0.0.1 for this module."""
  model = tiny_pitch_model()
  app = app_lib.create_app(str(tmp_path_factory.mktemp('studio')),
                           lambda: model, 'tiny_pitch', harmonic_filter_db=6.0,
                           retry_off_pitch=True)
  server = uvicorn.Server(uvicorn.Config(app, host='127.0.0.1', port=0,
                                         log_level='warning'))
  thread = threading.Thread(target=server.run, daemon=True)
  thread.start()
  deadline = time.monotonic() + 30
  while not server.started:
    assert time.monotonic() < deadline, 'the server did not start'
    time.sleep(0.05)
  port = server.servers[0].sockets[0].getsockname()[1]
  yield f'http://127.0.0.1:{port}/'
  server.should_exit = True
  thread.join()


@pytest.fixture(scope='module')
def browser():
  options = webdriver.ChromeOptions()
  options.binary_location = CHROMIUM
  for argument in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage',
                   '--autoplay-policy=no-user-gesture-required',
                   '--window-size=1100,1500'):
    options.add_argument(argument)
  driver = webdriver.Chrome(
      options=options, service=webdriver.ChromeService(CHROMEDRIVER))
  yield driver
  driver.quit()


def text_of(browser, element_id, pattern):
  """Waits until the element's text matches `pattern`; returns the text."""
  element = browser.find_element(By.ID, element_id)
  WebDriverWait(browser, WAIT_SECONDS).until(
      lambda _: re.search(pattern, element.text))
  return element.text


def fill(browser, element_id, value):
  field = browser.find_element(By.ID, element_id)
  field.clear()
  field.send_keys(value)


def retry_box(browser):
  """The retry box, once the studio's default has ticked it."""
  box = browser.find_element(By.ID, 'retry-off-pitch')
  WebDriverWait(browser, WAIT_SECONDS).until(lambda _: box.is_selected())
  return box


def chosen_pack(browser, ending):
  """Waits until the pack menu's choice ends with `ending`."""
  WebDriverWait(browser, WAIT_SECONDS).until(
      lambda b: b.find_element(By.CSS_SELECTOR, '#pack option:checked')
      .text.endswith(ending))


def choose_sounds(browser, url, *names):
  """Opens the page and ticks the bundled sounds `names`, in order."""
  browser.get(url)
  WebDriverWait(browser, WAIT_SECONDS).until(
      lambda b: b.find_elements(By.CSS_SELECTOR, 'input[value=nsynth_b4]'))
  for name in names:
    browser.find_element(By.CSS_SELECTOR, f'input[value={name}]').click()


def test_a_bad_upload_shows_its_message(browser, url, tmp_path):
  path = tmp_path / 'notes.wav'
  path.write_text('a text file named .wav\n')
  browser.get(url)
  browser.find_element(By.ID, 'upload').send_keys(str(path))
  message = text_of(browser, 'upload-message', 'not a readable')
  assert message.startswith('notes.wav: not a readable audio file')
  assert 'error' in browser.find_element(
      By.ID, 'upload-message').get_attribute('class')


def test_render_then_drag_the_pad_and_play(browser, url):
  choose_sounds(browser, url, 'nsynth_e5', 'nsynth_b4')
  fill(browser, 'points', '2')
  fill(browser, 'pitches', '60, 64')
  fill(browser, 'note-seconds', '0.05')
  # The studio's default filter, then the one asked for here.
  field = browser.find_element(By.ID, 'harmonic-filter-db')
  WebDriverWait(browser, WAIT_SECONDS).until(
      lambda _: field.get_attribute('value') == '6')
  fill(browser, 'harmonic-filter-db', '20')
  # The studio's default retry, kept.
  retry_box(browser)
  browser.find_element(By.ID, 'render').click()
  text_of(browser, 'progress-text', '^100%$')
  assert browser.find_element(By.ID, 'progress').get_attribute(
      'value') == '1'
  text_of(browser, 'player-status', '^ready: 4 samples$')
  chosen_pack(browser, ', 0.05 s, harmonic filter 20 dB, retried off pitch')
  pad = browser.find_element(By.ID, 'pad')
  assert pad.get_attribute('class') == 'line'
  width = pad.size['width']
  drag = webdriver.ActionChains(browser)
  # Past the right end: the point stops at the second sound.
  drag.click_and_hold(pad).move_by_offset(width // 2 + 20, 0).release()
  drag.perform()
  browser.find_element(By.CSS_SELECTOR, '.key[data-midi="62"]').click()
  assert text_of(browser, 'played', 'played') == (
      'played p0_1_m060 (+2 semitones); mix: p0_1 100%')
  drag = webdriver.ActionChains(browser)
  drag.click_and_hold(pad).move_by_offset(-width // 4, 0).release()
  drag.perform()
  webdriver.ActionChains(browser).send_keys('k').perform()  # C5: 72
  assert text_of(browser, 'played', r'\+8') == (
      'played p0_0_m064 (+8 semitones); mix: p0_0 75%, p0_1 25%')
  assert browser.find_element(By.ID, 'download').get_attribute(
      'href').endswith('.zip')
  # While a pack loads again (another choice in the menu, or the page's
  # retry while it had no pack), the loaded one keeps playing.
  browser.execute_script(
      "loadPack(document.getElementById('pack').value, state.pack);"
      'play(64, 1);')
  assert text_of(browser, 'played', r'\+0') == (
      'played p0_0_m064 (+0 semitones); mix: p0_0 75%, p0_1 25%')
  text_of(browser, 'player-status', '^ready: 4 samples$')


def test_an_untick_of_the_retry_is_sent_with_the_render(browser, url):
  choose_sounds(browser, url, 'nsynth_e5', 'nsynth_b4')
  fill(browser, 'points', '2')
  fill(browser, 'pitches', '60, 64')
  fill(browser, 'note-seconds', '0.05')
  fill(browser, 'harmonic-filter-db', '20')
  retry_box(browser).click()
  browser.find_element(By.ID, 'render').click()
  text_of(browser, 'progress-text', '^100%$')
  # A pack of its own, not retried though the studio retries by default.
  chosen_pack(browser, ', 0.05 s, harmonic filter 20 dB')


def test_a_long_render_can_be_cancelled_from_the_page(browser, url):
  choose_sounds(browser, url, 'nsynth_a1', 'nsynth_b4')
  fill(browser, 'points', '9')
  fill(browser, 'pitches', '48, 50, 52, 53, 55, 57, 59, 60')
  fill(browser, 'note-seconds', '2')  # 72 notes of 2 s: minutes
  cancel = browser.find_element(By.ID, 'cancel')
  assert not cancel.is_displayed()
  browser.find_element(By.ID, 'render').click()
  WebDriverWait(browser, WAIT_SECONDS).until(lambda _: cancel.is_displayed())
  text_of(browser, 'progress-text', '%')
  cancel.click()
  assert text_of(browser, 'render-message', 'cancelled') == (
      'render cancelled; the notes written are kept.')
  assert not cancel.is_displayed()
  assert browser.find_element(By.ID, 'render').is_enabled()
