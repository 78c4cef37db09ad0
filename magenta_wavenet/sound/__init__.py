"""Sound in and out: audio files, mu-law and trimming, pitch."""
