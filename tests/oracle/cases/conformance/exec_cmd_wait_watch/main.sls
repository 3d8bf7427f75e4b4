{% set tmp = grains['tmp'] %}
trigger:
  cmd.run:
    - name: touch {{ tmp }}/trigger
    - creates: {{ tmp }}/trigger
reload:
  cmd.wait:
    - name: echo reloaded >> {{ tmp }}/reloads
    - watch:
      - cmd: trigger
failing:
  cmd.run:
    - name: exit 3
