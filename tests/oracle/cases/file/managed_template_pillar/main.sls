conf:
  file.managed:
    - name: @ROOT@/work/app.conf
    - source: salt://app.conf.j2
    - template: jinja
