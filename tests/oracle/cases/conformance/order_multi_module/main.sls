both:
  test.succeed_without_changes:
    - name: marker
  cmd.run:
    - name: echo hi > {{ grains['tmp'] }}/both.txt
    - creates: {{ grains['tmp'] }}/both.txt
after:
  test.succeed_without_changes:
    - require:
      - cmd: both
