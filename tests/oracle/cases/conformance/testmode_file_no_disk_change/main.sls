{% set tmp = grains['tmp'] %}
new_file:
  file.managed:
    - name: {{ tmp }}/new.txt
    - contents: hello
changed_file:
  file.managed:
    - name: {{ tmp }}/old.txt
    - contents: new text
same_file:
  file.managed:
    - name: {{ tmp }}/same.txt
    - contents: same
