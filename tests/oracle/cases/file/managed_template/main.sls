conf:
  file.managed:
    - name: @ROOT@/work/t.conf
    - source: salt://files/t.conf.j2
    - template: jinja
    - context:
        port: 8080
    - defaults:
        port: 80
        host: example
