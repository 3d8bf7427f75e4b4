sleep_one:
  cmd.run:
    - name: sleep 1.5 && touch {{ grains['tmp'] }}/one
    - parallel: True
sleep_two:
  cmd.run:
    - name: sleep 1.5 && touch {{ grains['tmp'] }}/two
    - parallel: True
after_both:
  test.succeed_without_changes:
    - require:
      - cmd: sleep_one
      - cmd: sleep_two
