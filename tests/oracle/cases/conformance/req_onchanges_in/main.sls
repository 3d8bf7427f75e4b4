reactor:
  test.succeed_with_changes
idle_reactor:
  test.succeed_with_changes
changer:
  test.succeed_with_changes:
    - onchanges_in:
      - test: reactor
quiet:
  test.succeed_without_changes:
    - onchanges_in:
      - idle_reactor
