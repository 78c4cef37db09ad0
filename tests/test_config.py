"""The frozen config, its presets and derived values."""

import dataclasses

import pytest

import magenta_wavenet as mw


def test_published_preset():
  config = mw.get_config('h512_bo16')
  assert config.decoder_dilations[:11] == (1, 2, 4, 8, 16, 32, 64, 128, 256,
                                           512, 1)
  assert len(config.encoder_dilations) == 30
  assert config.decoder_receptive_field == 6141
  assert config.encoder_receptive_field == 6141


def test_frozen():
  with pytest.raises(dataclasses.FrozenInstanceError):
    mw.get_config('tiny').decoder_width = 3


@pytest.mark.parametrize('changes, message', [
    (dict(decoder_width=0), 'decoder_width must be a positive integer'),
    (dict(filter_length=2), 'filter_length must be 3'),
    (dict(hop_length=100), 'multiple of the largest dilation'),
    (dict(encoder_filter_length=4), 'must be odd'),
    (dict(input_peak=1.5), 'input_peak must be a number from 0'),
    (dict(input_peak=-0.1), 'input_peak must be a number from 0'),
    (dict(input_peak=True), 'input_peak must be a number from 0'),
    (dict(input_peak='loud'), 'input_peak must be a number from 0')])
def test_invalid_values_say_what_to_change(changes, message):
  with pytest.raises(mw.ConfigError, match=message):
    mw.get_config('h512_bo16').replace(**changes)


def test_the_level_a_model_hears():
  # The published model takes audio as it is, as Magenta's tools do; the
  # shipped ones were trained on notes at a peak of 0.9 and ask for it.
  assert mw.get_config('h512_bo16').input_peak == 0.0
  assert mw.get_config('h64_bo16').input_peak == 0.9
  assert mw.get_config('h64_bo16_pitch').input_peak == 0.9
  assert mw.load_model('h64_bo16_pitch').config.input_peak == 0.9


def test_unknown_preset():
  with pytest.raises(mw.ConfigError, match='choose one of .*h512_bo16'):
    mw.get_config('h1024')


def test_dict_round_trip():
  config = mw.get_config('h64_bo16')
  assert mw.WaveNetConfig.from_dict(config.to_dict()) == config
  with pytest.raises(mw.ConfigError, match='Unknown WaveNetConfig fields'):
    mw.WaveNetConfig.from_dict({'width': 3})
