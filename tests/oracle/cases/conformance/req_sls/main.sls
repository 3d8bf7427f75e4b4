include:
  - network
app:
  test.succeed_without_changes:
    - require:
      - sls: network
