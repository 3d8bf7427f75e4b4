conf:
  file.managed:
    - name: @ROOT@/work/os.txt
    - contents_grains: os_family
