a:
  test.nop:
    - x: {% if %}
