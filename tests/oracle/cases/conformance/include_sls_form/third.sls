third_state:
  test.succeed_without_changes:
    - comment: {{ saltenv }}
