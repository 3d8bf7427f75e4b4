stop_service:
  test.succeed_with_changes
idle_hook:
  test.succeed_with_changes
upgrade:
  test.succeed_with_changes:
    - prereq_in:
      - test: stop_service
noop_upgrade:
  test.succeed_without_changes:
    - prereq_in:
      - idle_hook
