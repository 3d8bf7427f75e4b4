x: {{ nothere }}
