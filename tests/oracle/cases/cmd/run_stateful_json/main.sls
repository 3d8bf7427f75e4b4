st:
  cmd.run:
    - name: {% raw %}'echo {\"changed\": true, \"comment\": \"did it\", \"extra\": 1}'{% endraw %}
    - stateful: True
