{% set tmp = grains['tmp'] %}
make_file:
  cmd.run:
    - name: echo one > {{ tmp }}/data.txt
    - creates: {{ tmp }}/data.txt
append_line:
  cmd.run:
    - name: echo two >> {{ tmp }}/data.txt
    - unless: grep -q two {{ tmp }}/data.txt
    - require:
      - cmd: make_file
in_dir:
  cmd.run:
    - name: pwd > here.txt
    - cwd: {{ tmp }}
    - onlyif: test ! -e {{ tmp }}/here.txt
