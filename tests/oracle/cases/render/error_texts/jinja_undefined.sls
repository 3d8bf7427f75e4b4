a:
  test.nop:
    - x: {{ nothere }}
