{% set tmp = grains['tmp'] %}
conf_dir:
  file.directory:
    - name: {{ tmp }}/etc/app
    - makedirs: True
conf:
  file.managed:
    - name: {{ tmp }}/etc/app/app.conf
    - source: salt://files/app.conf
    - template: jinja
    - context:
        port: 8080
    - require:
      - file: conf_dir
reload:
  cmd.run:
    - name: echo reload >> {{ tmp }}/reloads
    - onchanges:
      - file: conf
