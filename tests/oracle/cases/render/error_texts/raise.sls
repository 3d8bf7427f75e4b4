a:
  test.nop:
    - x: {{ raise("custom failure") }}
