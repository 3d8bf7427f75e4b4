conf:
  file.managed:
    - name: @ROOT@/work/t.conf
    - template: jinja
    - contents: "value={{ 6 * 7 }}"
