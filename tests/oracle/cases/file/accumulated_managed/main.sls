conf:
  file.managed:
    - name: @ROOT@/work/app.conf
    - source: salt://app.conf.j2
    - template: jinja
frag:
  file.accumulated:
    - name: servers
    - filename: @ROOT@/work/app.conf
    - text: server a
    - require_in:
      - file: conf
