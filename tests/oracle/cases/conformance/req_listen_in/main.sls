listener:
  test.succeed_without_changes
changer:
  test.succeed_with_changes:
    - listen_in:
      - test: listener
